// Lint TypeScript sources and tests with the recommended rule sets. editor/ is browser code: it sees the
// editor's globals, not Node's. The inline registration scripts in nodes/*.html are checked by the editor tests.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['resources/**', 'dist/**', 'node_modules/**', '.demo/**', '.node-red-user/**', 'docs/**', '.cache/**'] },
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
  {
    files: ['editor/**/*.ts'],
    languageOptions: {
      globals: Object.fromEntries(['window', 'document', 'console', 'Intl', 'RED', '$'].map((name) => [name, 'readonly'])),
    },
    rules: {
      // The Node-only globals above are no use in the browser.
      'no-restricted-globals': ['error', 'process', 'Buffer', 'require', 'module', '__dirname', '__filename', 'setImmediate'],
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
  // The unit table is bundled into the editor as well (editor/checks.ts): it stays free of imports and Node.
  {
    files: ['src/time/unit-table.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['*'], message: 'src/time/unit-table.ts is bundled into the editor: no imports.' }] }],
      'no-restricted-globals': ['error', 'process', 'Buffer', 'require', 'module', '__dirname', '__filename', 'setImmediate'],
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
