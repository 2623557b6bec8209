export { AlertsComponent } from './component.js';
export { alertRules, alertsObjects, ruleName, type AlertRule } from './render.js';
