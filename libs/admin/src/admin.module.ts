import { DynamicModule, Module } from '@nestjs/common';
import { HttpEdgeModule } from '@qwen/http';
import { AdminController } from './admin.controller';
import { AdminErrorDialect } from './admin-errors';
import { AdminGuard } from './admin.guard';
import { AdminToken } from './admin-token';
import { ADMIN_OPTIONS, AdminModuleOptions } from './admin.options';
import { AdminService } from './admin.service';
import { ApplicationCloser } from './application-closer';
import { ProcessExit } from './process-exit';

/**
 * POST /admin/reload and POST /admin/shutdown. Wire it as `AdminModule.register({ reloadOptions })`;
 * it uses the global ConfigStore, ModelService and TokenizerSupervisor. After the app is started,
 * attach the close function: `app.get(ApplicationCloser).attach(() => qwenApp.close())`.
 */
@Module({})
export class AdminModule {
  static register(options: AdminModuleOptions): DynamicModule {
    return {
      module: AdminModule,
      imports: [HttpEdgeModule],
      controllers: [AdminController],
      providers: [{ provide: ADMIN_OPTIONS, useValue: options }, AdminErrorDialect, AdminGuard, AdminToken, AdminService, ApplicationCloser, ProcessExit],
      exports: [AdminToken, ApplicationCloser, ProcessExit],
    };
  }
}
