// The in-flight server is plain JavaScript (bench/ uses it too); this module gives it to the tests.
export { clock, startInflightServer, type InflightServer, type Served } from './inflight-server.mjs';
