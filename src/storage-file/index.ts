// Placeholder until the file adapter lands (issue 3).
export interface FileStorageAdapterOptions { directory: string }
export class FileStorageAdapter {}
export default FileStorageAdapter;
