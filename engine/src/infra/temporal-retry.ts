// How the platform's Temporal client retries calls (see api/outage.ts for why).
import { isRetryableError, type GrpcRetryOptions } from '@temporalio/client';

const GRPC_RESOURCE_EXHAUSTED = 8;
const GRPC_UNAVAILABLE = 14;

/**
 * The Temporal client's retries: as the SDK's for every retryable status but UNAVAILABLE (the server
 * cannot be reached), which gives up after four attempts within about a second instead of ten
 * within half a minute, so that a request can say Temporal is down while the person still waits.
 */
export function outageAwareRetry(): GrpcRetryOptions {
  return {
    delayFunction(attempt, status) {
      const base =
        status.code === GRPC_UNAVAILABLE ? 100 : status.code === GRPC_RESOURCE_EXHAUSTED ? 1_000 : 100;
      const max = status.code === GRPC_UNAVAILABLE ? 400 : 5_000;
      return Math.min(max, 1.7 ** attempt * base) * (1 + (Math.random() - 0.5) * 0.4);
    },
    retryableDecider(attempt, status) {
      return attempt < (status.code === GRPC_UNAVAILABLE ? 4 : 10) && isRetryableError(status);
    },
  };
}
