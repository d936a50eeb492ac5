// Public surface of libs/chat-parsers: Seed-OSS reasoning and tool-call parsers (pure, no I/O).
export * from './seed-tags';
export * from './seed-reasoning-parser';
export * from './reasoning-token-ids';
export * from './param-converter';
export * from './tool-call-deltas';
export * from './tool-call-id';
export * from './seed-tool-call-stream-parser';
export * from './seed-tool-parser';
export * from './seed-output-parser';
