// Guards the classification of S3 answers: a 4xx other than 403/404/416 (e.g. 405 MethodNotAllowed) read "unreachable".
import t from 'tap';
import { classify } from '../../lib/object-store.ts';

/** An SDK-like service error: its name and HTTP status. */
const answered = (name: string, status: number): Error => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

t.test('a request the server refuses is said to be refused, not the server unreachable', async (t) => {
  t.match(classify('vault', answered('MethodNotAllowed', 405)), { code: 'BAD_ANSWER', message: 'storage vault: the server refused the request (HTTP 405 MethodNotAllowed)' });
  t.match(classify('vault', answered('InvalidArgument', 400)), { code: 'BAD_ANSWER', message: 'storage vault: the server refused the request (HTTP 400 InvalidArgument)' });
});

t.test('the other answers keep their meaning', async (t) => {
  t.match(classify('vault', answered('ExpiredToken', 403)), { code: 'DENIED', message: 'storage vault: the bucket refused the credentials (ExpiredToken): check AccessKey and the secret key' });
  for (const refusal of ['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied']) {
    t.match(classify('vault', answered(refusal, 403)), { code: 'DENIED', message: `storage vault: the bucket refused the credentials (${refusal}): check AccessKey and the secret key` });
  }
  t.match(classify('vault', answered('NoSuchKey', 404)), { code: 'NOT_FOUND' });
  t.match(classify('vault', answered('InvalidRange', 416)), { code: 'BAD_ANSWER', message: 'storage vault: the range is outside the object' });
  t.match(classify('vault', answered('SlowDown', 503)), { code: 'UNAVAILABLE', message: 'storage vault: the server answered HTTP 503 (SlowDown)' });
  t.match(classify('vault', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })), { code: 'UNAVAILABLE', message: 'storage vault: unreachable (ECONNREFUSED)' });
});
