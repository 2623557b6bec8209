/** Every component's door, for the wiring and the render command. */
export { dnsResolver, MadisonComponent } from './madison/index.js';
export { LogsComponent } from './logs/index.js';
export { MetricsComponent } from './metrics/index.js';
export { UpmeterComponent } from './upmeter/index.js';
export { AlertsComponent } from './alerts/index.js';
