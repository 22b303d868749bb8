import { Agent as HttpsAgent } from 'node:https';
import { Agent as HttpAgent } from 'node:http';
import type { Readable } from 'node:stream';
import { createRequire } from 'node:module';
import type { S3Client } from '@aws-sdk/client-s3';
import type { ObjectCache } from './object-cache.ts';

const require = createRequire(import.meta.url);
/** The S3 SDK is loaded on the first bucket, not at start: it adds about 22 MiB to every relay, most of which have none. */
const sdk = (): typeof import('@aws-sdk/client-s3') => require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3');
const sdkUpload = (): typeof import('@aws-sdk/lib-storage') => require('@aws-sdk/lib-storage') as typeof import('@aws-sdk/lib-storage');

// The SDK warns once, on stderr and outside the relay's logger, that later versions will need a newer Node.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** Where a bucket is and how to sign for it; the keys are functions so that no serialisation shows them. */
export interface ObjectStoreOptions {
  readonly name: string;
  /** Scheme, host and port, no trailing slash. */
  readonly endpoint: string;
  readonly region: string;
  readonly bucket: string;
  /** Path-style addressing (ENDPOINT/BUCKET/KEY), as MinIO and most self-hosted servers want; no: BUCKET.HOST/KEY. */
  readonly pathStyle: boolean;
  /** https:// endpoints: verify the certificate. */
  readonly tlsVerify: boolean;
  /** The access key id: a function, so that printing or serialising the config never shows it. */
  readonly accessKey: () => string;
  /** The secret key (SecretKey, SecretKeyFile or SecretKeyEnv): a function, for the same reason. */
  readonly secretKey: () => string;
  /** CachePath: where whole copies of MP4 files with their index at the end are kept; none: such files are refused. */
  readonly cachePath?: string | undefined;
  /** CacheMaxSize: the bytes of those copies together. */
  readonly cacheMaxBytes?: number;
}

/**
 * NOT_FOUND: no such key; DENIED: credentials refused; UNAVAILABLE: down, slow or 5xx (worth retrying); BAD_ANSWER: not
 * S3; TOO_LARGE: an object larger than the local cache may hold.
 */
export type ObjectStoreErrorCode = 'NOT_FOUND' | 'DENIED' | 'UNAVAILABLE' | 'BAD_ANSWER' | 'TOO_LARGE';

/** A bucket failure whose message names the storage and the reason, never a key or a credential. */
export class ObjectStoreError extends Error {
  override readonly name = 'ObjectStoreError';
  constructor(readonly code: ObjectStoreErrorCode, message: string) {
    super(message);
  }

  get retryable(): boolean {
    return this.code === 'UNAVAILABLE' || this.code === 'BAD_ANSWER';
  }
}

/** What one bucket has done since start, for /stat.json. */
export interface ObjectStoreStats {
  name: string;
  bucket: string;
  endpoint: string;
  requests: number;
  failures: number;
  bytesRead: number;
  bytesWritten: number;
  /** ok until a request fails; failing until one succeeds again. */
  state: 'ok' | 'failing';
  lastError: { message: string; at: string } | null;
}

/** One object's size and validators. */
export interface ObjectInfo {
  readonly key: string;
  readonly size: number;
  readonly etag: string | undefined;
  readonly lastModified: Date | undefined;
}

/** Per request: a connection that cannot be made, or a response that stalls, this long is a failure. */
const CONNECT_TIMEOUT_MS = 5_000;
const REQUEST_TIMEOUT_MS = 15_000;
/** Parts of a multipart upload (the SDK's helper switches to multipart above one part). */
const PART_BYTES = 8 * 1024 * 1024;

/** Turns an SDK or network error into an ObjectStoreError with a short, safe message. */
export function classify(storage: string, error: unknown): ObjectStoreError {
  if (error instanceof ObjectStoreError) return error;
  const status = (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  const name = (error as Error)?.name ?? 'Error';
  const code = (error as NodeJS.ErrnoException)?.code;
  if (status === 404 || name === 'NoSuchKey' || name === 'NotFound') return new ObjectStoreError('NOT_FOUND', `storage ${storage}: no such object`);
  if (name === 'NoSuchBucket') return new ObjectStoreError('NOT_FOUND', `storage ${storage}: the bucket does not exist`);
  if (status === 403 || status === 401 || ['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken'].includes(name)) {
    // A refused HEAD has no body, so the SDK knows no error name ("Unknown"): only the status is said then.
    const why = ['Unknown', 'Error', '403', 'Forbidden'].includes(name) ? `HTTP ${status ?? 403}` : name;
    return new ObjectStoreError('DENIED', `storage ${storage}: the bucket refused the credentials (${why}): check AccessKey and the secret key`);
  }
  if (/XML|Deserialization|parse/i.test((error as Error)?.message ?? '') && !(error instanceof sdk().S3ServiceException && status && status < 500)) {
    return new ObjectStoreError('BAD_ANSWER', `storage ${storage}: the server's answer is not S3 XML${status ? ` (HTTP ${status})` : ''}`);
  }
  if (status && status >= 500) return new ObjectStoreError('UNAVAILABLE', `storage ${storage}: the server answered HTTP ${status} (${name})`);
  if (status === 416) return new ObjectStoreError('BAD_ANSWER', `storage ${storage}: the range is outside the object`);
  // Any other 4xx is the server refusing this request (an operation it does not support, a bad argument), not an outage.
  if (status && status >= 400 && status < 500) return new ObjectStoreError('BAD_ANSWER', `storage ${storage}: the server refused the request (HTTP ${status} ${name})`);
  const why = code ?? (name === 'Error' ? ((error as Error)?.message ?? 'error').slice(0, 120) : name);
  return new ObjectStoreError('UNAVAILABLE', `storage ${storage}: unreachable (${why})`);
}

/**
 * One S3-compatible bucket, through the AWS SDK v3 client: ranged reads, listing, deletes and uploads (multipart for
 * large bodies, by the SDK's Upload helper). The SDK retries 5xx and SlowDown answers itself with backoff; callers
 * retry what is still UNAVAILABLE (a connection cut mid-body). Every request is counted for /stat.json.
 */
export class ObjectStore {
  readonly client: S3Client;
  /** Whole local copies of objects that cannot play while they download (CachePath), when configured. */
  cache: ObjectCache | undefined;
  private readonly counters: ObjectStoreStats;

  constructor(readonly options: ObjectStoreOptions) {
    const https = options.endpoint.startsWith('https:');
    const agentOptions = { keepAlive: true, maxSockets: 64 };
    this.client = new (sdk().S3Client)({
      endpoint: options.endpoint,
      region: options.region,
      forcePathStyle: options.pathStyle,
      credentials: { accessKeyId: options.accessKey(), secretAccessKey: options.secretKey() },
      maxAttempts: 4,
      // Checksums only where S3 requires them: several S3-compatible servers do not know the newer trailers.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: {
        connectionTimeout: CONNECT_TIMEOUT_MS,
        requestTimeout: REQUEST_TIMEOUT_MS,
        ...(https ? { httpsAgent: new HttpsAgent({ ...agentOptions, rejectUnauthorized: options.tlsVerify }) } : { httpAgent: new HttpAgent(agentOptions) }),
      },
    });
    this.counters = {
      name: options.name, bucket: options.bucket, endpoint: options.endpoint,
      requests: 0, failures: 0, bytesRead: 0, bytesWritten: 0, state: 'ok', lastError: null,
    };
  }

  get name(): string {
    return this.options.name;
  }

  stats(): ObjectStoreStats {
    return structuredClone(this.counters);
  }

  /** Counts a failure seen by a caller (a body cut mid-way, which the SDK never sees). */
  noteFailure(error: ObjectStoreError): void {
    this.counters.failures++;
    if (error.code === 'NOT_FOUND') return;
    this.counters.state = 'failing';
    this.counters.lastError = { message: error.message, at: new Date().toISOString() };
  }

  /** Counts body bytes a caller read. */
  noteBytesRead(bytes: number): void {
    this.counters.bytesRead += bytes;
  }

  async head(key: string, signal?: AbortSignal): Promise<ObjectInfo> {
    const answer = await this.request(() => this.client.send(new (sdk().HeadObjectCommand)({ Bucket: this.options.bucket, Key: key }), { abortSignal: signal }));
    return { key, size: answer.ContentLength ?? 0, etag: answer.ETag, lastModified: answer.LastModified };
  }

  /** Bytes `start`..`end` (inclusive) of an object as a stream; one attempt at the body (the caller resumes a cut one). */
  async getRange(key: string, start: number, end: number, signal?: AbortSignal): Promise<{ body: Readable; info: ObjectInfo; contentRange: string | undefined }> {
    const answer = await this.request(() =>
      this.client.send(new (sdk().GetObjectCommand)({ Bucket: this.options.bucket, Key: key, Range: `bytes=${start}-${end}` }), { abortSignal: signal }));
    const size = Number(/\/(\d+)$/.exec(answer.ContentRange ?? '')?.[1] ?? answer.ContentLength ?? 0);
    return {
      body: answer.Body as Readable,
      info: { key, size, etag: answer.ETag, lastModified: answer.LastModified },
      contentRange: answer.ContentRange,
    };
  }

  /** Objects under `prefix`, every page. */
  async list(prefix: string, signal?: AbortSignal): Promise<ObjectInfo[]> {
    const found: ObjectInfo[] = [];
    let token: string | undefined;
    do {
      const page = await this.request(() =>
        this.client.send(new (sdk().ListObjectsV2Command)({ Bucket: this.options.bucket, Prefix: prefix, ContinuationToken: token }), { abortSignal: signal }));
      for (const object of page.Contents ?? []) {
        if (object.Key) found.push({ key: object.Key, size: object.Size ?? 0, etag: object.ETag, lastModified: object.LastModified });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return found;
  }

  async delete(key: string): Promise<void> {
    await this.request(() => this.client.send(new (sdk().DeleteObjectCommand)({ Bucket: this.options.bucket, Key: key })));
  }

  /** Uploads a body of known size: one PUT for small ones, multipart (parts of 8 MiB, 2 at once) for large ones. */
  async upload(key: string, body: Readable, size: number, contentType: string, signal?: AbortSignal): Promise<void> {
    const upload = new (sdkUpload().Upload)({
      client: this.client,
      params: { Bucket: this.options.bucket, Key: key, Body: body, ContentType: contentType, ContentLength: size },
      partSize: PART_BYTES,
      queueSize: 2,
      // The parts are aborted below instead: when the SDK aborts them itself, a failing abort hides why the upload failed.
      leavePartsOnError: true,
    });
    const abort = (): void => void upload.abort();
    signal?.addEventListener('abort', abort, { once: true });
    try {
      await this.request(() => upload.done());
      this.counters.bytesWritten += size;
    } catch (error) {
      if (upload.uploadId) await this.abortParts(key, upload.uploadId);
      throw error;
    } finally {
      signal?.removeEventListener('abort', abort);
    }
  }

  /** Best effort: a bucket that refuses the abort keeps the parts until its own lifecycle rules remove them. */
  private async abortParts(key: string, uploadId: string): Promise<void> {
    try {
      await this.client.send(new (sdk().AbortMultipartUploadCommand)({ Bucket: this.options.bucket, Key: key, UploadId: uploadId }));
    } catch {
      this.counters.failures++;
    }
  }

  close(): void {
    this.cache?.close();
    this.client.destroy();
  }

  private async request<T>(send: () => Promise<T>): Promise<T> {
    this.counters.requests++;
    try {
      const answer = await send();
      this.counters.state = 'ok';
      return answer;
    } catch (error) {
      const failure = classify(this.options.name, error);
      if ((error as Error)?.name !== 'AbortError') this.noteFailure(failure);
      throw failure;
    }
  }
}
