import { FileStorageAdapter } from './adapter.js';
import type { FileStorageAdapterOptions } from './options.js';

export default FileStorageAdapter;
export { FileStorageAdapter };
export type { FileStorageAdapterOptions };
