/** The Connect service client. */
export {
  ConnectClient,
  ConnectHTTPError,
  ConnectUnreachableError,
  registrationBody,
  type ConnectOptions,
  type MadisonKeyState,
  type MadisonRegistration,
} from './client.js';
export { displayURL, maxAnswerBytes, noProxyCovers, proxyAuthorization, proxyFor, tunnel, type ProxySettings } from './http.js';
