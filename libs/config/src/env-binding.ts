import 'reflect-metadata';
import { Type } from 'class-transformer';
import { ValidateNested } from 'class-validator';

/** How an environment variable's text becomes the key's value. */
export type EnvKind = 'string' | 'int' | 'bool' | 'list' | 'nullable-string';

/** One environment variable and the configuration key it overrides, e.g. QWEN_PORT → server.port. */
export interface EnvBinding {
  env: string;
  key: string;
  kind: EnvKind;
}

interface PropertyEnv {
  property: string;
  env: string;
  kind: EnvKind;
}

const ENV_KEY = Symbol('qwen.config.env');
const SECTIONS_KEY = Symbol('qwen.config.sections');

/**
 * Declares, next to a configuration key, the environment variable that overrides it:
 * `@Env('QWEN_PORT', 'int') @IsInt() port!: number;`. The ONE declaration of that name: the loader,
 * the config/default.yaml comments and docs/configuration.md's table are checked against it (env-binding.spec.ts).
 */
export function Env(env: string, kind: EnvKind = 'string'): PropertyDecorator {
  return (target: object, property: string | symbol) => {
    const list: PropertyEnv[] = Reflect.getOwnMetadata(ENV_KEY, target.constructor) ?? [];
    Reflect.defineMetadata(ENV_KEY, [...list, { property: String(property), env, kind }], target.constructor);
  };
}

/** A nested section of the configuration (validated as a whole, its env bindings found under its key). */
export function Section(type: () => new () => object): PropertyDecorator {
  return (target: object, property: string | symbol) => {
    ValidateNested()(target, property);
    Type(type)(target, property);
    const list: Array<{ property: string; type: () => new () => object }> = Reflect.getOwnMetadata(SECTIONS_KEY, target.constructor) ?? [];
    Reflect.defineMetadata(SECTIONS_KEY, [...list, { property: String(property), type }], target.constructor);
  };
}

/** Every environment variable declared with @Env under `root`, with its dotted key. */
export function envBindings(root: new () => object, prefix = ''): EnvBinding[] {
  const own: PropertyEnv[] = Reflect.getOwnMetadata(ENV_KEY, root) ?? [];
  const bindings: EnvBinding[] = own.map(({ property, env, kind }) => ({ env, key: `${prefix}${property}`, kind }));
  const sections: Array<{ property: string; type: () => new () => object }> = Reflect.getOwnMetadata(SECTIONS_KEY, root) ?? [];
  for (const section of sections) bindings.push(...envBindings(section.type(), `${prefix}${section.property}.`));
  return bindings;
}
