/** Upmeter: the cluster's SLA metrics to Connect through upmeter. */
export { UpmeterComponent } from './component.js';
export { remoteWriteName, remoteWriteURL, renderUpmeter, upmeterComponent, upmeterObjects, type UpmeterFacts } from './render.js';
