// Public surface of libs/safetensors (one entry point for other libs and apps).
export * from './dtypes';
export * from './float-conversions';
export * from './safetensors-writer';
export * from './sharded-writer';
export * from './safetensors-reader';
export * from './checkpoint-reader';
