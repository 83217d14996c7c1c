import { Controller, HttpCode, HttpStatus, Post, Query, UseGuards } from '@nestjs/common';
import { AdminError } from './admin-error';
import { AdminGuard } from './admin.guard';
import { AdminAction, AdminService } from './admin.service';

/** POST /admin/reload and /admin/shutdown; guarded (admin token or loopback), errors from AdminErrorDialect's table. */
@Controller('admin')
@UseGuards(AdminGuard)
export class AdminController {
  constructor(private readonly admin: AdminService) {}

  @Post('reload')
  @HttpCode(HttpStatus.ACCEPTED)
  reload(@Query('force') force?: string | string[]): AdminAction {
    return this.admin.reload(parseForce(force));
  }

  @Post('shutdown')
  @HttpCode(HttpStatus.ACCEPTED)
  shutdown(@Query('force') force?: string | string[]): AdminAction {
    return this.admin.shutdown(parseForce(force));
  }
}

/** `?force`, `?force=true|1` → true; absent, `false|0` → false; anything else → 400. */
function parseForce(value: string | string[] | undefined): boolean {
  if (value === undefined) return false;
  const text = Array.isArray(value) ? value[value.length - 1] : value;
  if (['', 'true', '1'].includes(text.toLowerCase())) return true;
  if (['false', '0'].includes(text.toLowerCase())) return false;
  throw AdminError.badRequest('invalid_parameter', `force must be true or false, got "${text.slice(0, 40)}"`);
}
