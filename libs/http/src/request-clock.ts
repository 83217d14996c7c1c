import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';

/** The clock and the randomness of the HTTP edge (request ids, timestamps); a test can swap it. */
@Injectable()
export class RequestClock {
  /** Epoch milliseconds. */
  now(): number {
    return Date.now();
  }

  /** A fresh request id: 24 characters of [0-9A-Za-z], unguessable. */
  newRequestId(): string {
    const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    let id = '';
    for (const byte of randomBytes(24)) id += alphabet[byte % alphabet.length];
    return id;
  }
}
