import { Injectable } from '@nestjs/common';

/** The wall clock of HealthModule (NPU cache, uptimes); tests replace it. */
@Injectable()
export class HealthClock {
  now(): number {
    return Date.now();
  }
}
