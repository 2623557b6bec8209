/** Field names that may carry a secret in this program's log calls (a light module: the proxy loads it). */
export const secretFields: readonly string[] = [
  'licenceKey',
  'licenseKey',
  'licence',
  'license',
  'authKey',
  'auth_key',
  'token',
  'bearerToken',
  'password',
  'authorization',
  'Authorization',
  'secret',
  'data',
  'stringData',
];
