/**
 * `${ENV_VAR}` references (the whole value, as Node-RED defines them). Node-RED substitutes them in a
 * node's properties and credentials when the flow starts but leaves an unset one as the literal text,
 * which would go out as a token or URL; and it never sees the form values the editor posts to Test
 * connection before a deploy. The config node resolves both here: unset is a clear error.
 */
import { ValidationError } from '../../src/errors';
import type { Node, NodeAPI } from './red';

const ENV_REF = /^\$\{(\S+)\}$/;

/** The variable a value refers to, or undefined when it is not a whole-value reference. */
export function envRefName(value: unknown): string | undefined {
  return typeof value === 'string' ? ENV_REF.exec(value.trim())?.[1] : undefined;
}

/**
 * A copy of `obj` with every whole-value `${NAME}` string replaced by lookup(NAME). An unset variable
 * is an error naming the field and the reference (never a value, which may be a secret).
 */
export function resolveEnvRefs<T extends object>(obj: T, lookup: (name: string) => unknown): T {
  const out = { ...obj } as Record<string, unknown>;
  for (const [field, value] of Object.entries(out)) {
    const name = envRefName(value);
    if (name === undefined) continue;
    const resolved = lookup(name);
    if (resolved === undefined || resolved === null || resolved === '') {
      throw new ValidationError(field, value, `refers to environment variable ${name}, which is not set`);
    }
    out[field] = typeof resolved === 'string' ? resolved : String(resolved);
  }
  return out as T;
}

/** Looks a variable up the way Node-RED does for the node (flow and group env, then settings, then process). */
export function nodeEnvLookup(RED: NodeAPI, node: Node): (name: string) => unknown {
  return (name) => {
    let result: unknown;
    let called = false;
    // The 'env' type answers synchronously; the callback form is the one every Node-RED 4 release has.
    RED.util.evaluateNodeProperty(name, 'env', node, {}, (err, value) => {
      called = true;
      result = err ? undefined : value;
    });
    return called ? result : process.env[name];
  };
}

/** Before a deploy there is no node to ask, so the editor's form values see the process environment only. */
export function processEnvLookup(name: string): unknown {
  return process.env[name];
}
