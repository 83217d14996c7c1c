import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { RequestContext } from './request-context';

/** A handler parameter: the RequestContext the edge opened for this request. */
export const CurrentRequest = createParamDecorator((_data: unknown, host: ExecutionContext): RequestContext => {
  const req = host.switchToHttp().getRequest<Request>();
  const context = RequestContext.of(req);
  if (!context) throw new Error('no request context: the app was started without applyHttpEdge()');
  return context;
});
