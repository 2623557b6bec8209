/** Logs: the Deckhouse operator's logs to Flant's Loki through log-shipper. */
export { LogsComponent } from './component.js';
export { destinationName, loggingConfigName, logsComponent, logsObjects, lokiEndpoint, renderLogs, type LogsFacts } from './render.js';
