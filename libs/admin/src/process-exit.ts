import { Injectable } from '@nestjs/common';

/** The one place the service ends its own process; tests replace it so jest keeps running. */
@Injectable()
export class ProcessExit {
  exit(code: number): void {
    process.exit(code);
  }
}
