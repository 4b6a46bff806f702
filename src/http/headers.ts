/** Response header naming the deployment that served the request (a config name, never a URL). */
export const DEPLOYMENT_HEADER = 'x-floodgate-deployment';
