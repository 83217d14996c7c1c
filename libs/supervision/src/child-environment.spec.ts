import { childEnvironment } from './child-environment';

describe(childEnvironment.name, () => {
  it('passes what a program needs and drops secrets and configuration', () => {
    const env = childEnvironment(
      {
        PATH: '/usr/bin',
        HOME: '/home/qwen',
        LC_ALL: 'C.UTF-8',
        LD_LIBRARY_PATH: '/usr/lib/axcl',
        QWEN_EMU_TOKEN_MS: '5',
        QWEN_API_KEYS: 'sk-secret',
        QWEN_ADMIN_TOKEN: 'admin-secret',
        QWEN_PORT: '8080',
        AWS_SECRET_ACCESS_KEY: 'x',
        NODE_OPTIONS: '--require /tmp/evil.js',
        UNSET: undefined,
      },
      { EXTRA: '1' },
    );
    expect(env).toEqual({ PATH: '/usr/bin', HOME: '/home/qwen', LC_ALL: 'C.UTF-8', LD_LIBRARY_PATH: '/usr/lib/axcl', QWEN_EMU_TOKEN_MS: '5', EXTRA: '1' });
  });
});
