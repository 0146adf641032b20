/** The config node's credentials as Node-RED stores them (registered with the type at start-up). */
export const CREDENTIALS = {
  token: { type: 'password' },
  tokenFile: { type: 'text' },
  accountId: { type: 'text' },
  username: { type: 'text' },
  password: { type: 'password' },
} as const;

/** The placeholder the editor sends for a password it never received. */
export const STORED = '__PWRD__';
