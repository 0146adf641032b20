// Lint TypeScript sources and tests with the recommended rule sets; editor HTML is checked by the browser tests.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.demo/**', '.node-red-user/**', 'docs/**', '.cache/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: Object.fromEntries(
        ['process', 'console', 'Buffer', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate',
          'URL', 'URLSearchParams', 'fetch', 'AbortController', 'AbortSignal', 'TextEncoder', 'TextDecoder', 'queueMicrotask',
          'structuredClone', 'performance', 'require', 'module', '__dirname', '__filename', 'exports']
          .map((name) => [name, 'readonly']),
      ),
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  // Layers (docs/architecture.md): src/ never imports nodes/ or Node-RED; nodes/ reaches src/ only through
  // its entry points (src/<folder>/index.ts, src/errors.ts, src/types.ts, src/stream.ts), never a file inside a folder.
  {
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['**/nodes/**', 'node-red', '@node-red/*'], message: 'src/ is the library: it must not import nodes/ or Node-RED.' },
      ] }],
    },
  },
  {
    files: ['nodes/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['**/src/*/*'], message: "nodes/ imports src/ through its entry points (e.g. '../src/kairos'), not files inside a folder." },
      ] }],
    },
  },
);
