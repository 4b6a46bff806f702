// The 400s the translation itself raises: an OpenAI request that Anthropic's Messages API cannot
// express. They name the parameter the OpenAI way (`messages[2].content[0]`) so the caller can
// fix the request, and are never retryable: another attempt at this upstream would fail the same.
import { GatewayError } from '../../core/errors.js';

export function unsupportedParameter(param: string, message: string): GatewayError {
  return new GatewayError(message, { status: 400, type: 'invalid_request_error', code: 'unsupported_parameter', param });
}

export function unsupportedValue(param: string, message: string): GatewayError {
  return new GatewayError(message, { status: 400, type: 'invalid_request_error', code: 'unsupported_value', param });
}

export function invalidValue(param: string, message: string): GatewayError {
  return new GatewayError(message, { status: 400, type: 'invalid_request_error', code: 'invalid_value', param });
}
