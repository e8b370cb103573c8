// ESLint flat config: typescript-eslint's recommended rules over the whole TypeScript tree;
// formatting is Prettier's job (`npm run format`), so no stylistic rules here.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '**/*.go'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // Node's globals, for the few plain .js files (TypeScript checks the .ts ones itself).
    languageOptions: {
      ecmaVersion: 2024,
      sourceType: 'module',
      globals: { URL: 'readonly', process: 'readonly', console: 'readonly', Buffer: 'readonly' },
    },
    rules: {
      // Kubernetes objects are open-ended JSON; `any` is used deliberately at those edges.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
);
