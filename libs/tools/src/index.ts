export * from './json-scanner';
export * from './tool-call-parser';
export * from './tool-call-scanner';
export * from './tool-history';
export * from './tool-plan';
export * from './tool-request-error';
export * from './tool-spec';
export * from './tools-chat-template';
