export * from './chat-test-app';
export * from './fake-model.service';
