import { FileStorageAdapter } from './adapter.js';
import type { FileLockerOptions, FileStorageAdapterOptions } from './options.js';

export default FileStorageAdapter;
export { FileStorageAdapter };
export type { FileLockerOptions, FileStorageAdapterOptions };
export type { LockInspection } from '../shared/inspection.js';
