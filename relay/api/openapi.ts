/** A JSON Schema (OpenAPI 3.1 uses JSON Schema 2020-12) written as a plain object. */
type Schema = Record<string, unknown>;

const object = (properties: Record<string, Schema>, required: string[] = []): Schema => ({ type: 'object', properties, required, additionalProperties: true });
const string: Schema = { type: 'string' };
const number: Schema = { type: 'number' };
const integer: Schema = { type: 'integer' };
const boolean: Schema = { type: 'boolean' };
const json = (description: string, schema: Schema) => ({ description, content: { 'application/json': { schema } } });
const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const body = (schema: Schema) => ({ required: true, content: { 'application/json': { schema } } });

const ERROR_CODE = json('An error with a stable code', ref('CodedError'));
const CONTROL_ERROR = json('A refusal with a stable code: BAD_INPUT 400, NOT_HOLDER 409, RATE_LIMITED and TOO_MANY_FROM_ADDRESS 429, NO_PRESET 404, CAMERA_REFUSED and CAMERA_UNREACHABLE 502, QUEUE_FULL and CAMERA_BUSY 503, CAMERA_TIMEOUT 504', ref('ControlError'));
const camera = { name: 'camera', in: 'path', required: true, schema: string, description: 'A camera with a Control backend' };
const recordingQuery = (extra: object[] = []) => [
  { name: 'camera', in: 'query', required: true, schema: string },
  { name: 'start', in: 'query', required: true, schema: { type: 'string', format: 'date-time' }, description: 'RFC 3339' },
  { name: 'duration', in: 'query', required: true, schema: number, description: 'seconds, at most RecordMaxRequestSeconds' },
  ...extra,
];
const recordingErrors = { 400: ERROR_CODE, 404: ERROR_CODE, 503: json('BUSY: more than four exports at once', ref('CodedError')) };
const vodRecord = ref('VodStream');
const vodName = body(object({ localStreamName: string }, ['localStreamName']));
const vodErrors = { 400: ERROR_CODE, 404: ERROR_CODE, 408: ERROR_CODE, 413: ERROR_CODE };
const viewerCommand = (summary: string, fields: Record<string, Schema>) => ({
  post: {
    summary,
    tags: ['control'],
    parameters: [camera],
    requestBody: body(object({ id: string, ...fields }, ['id'])),
    responses: { 200: json('Done', object({ ok: boolean, ptz: { oneOf: [ref('Ptz'), { type: 'null' }] } })), 400: CONTROL_ERROR, 409: CONTROL_ERROR, 429: CONTROL_ERROR, 502: CONTROL_ERROR, 504: CONTROL_ERROR },
  },
});
const operator = (summary: string, answer: Schema) => ({
  post: { summary, tags: ['control'], parameters: [camera], security: [{ basic: [] }, { bearer: [] }], responses: { 200: json('Done', answer), 401: { description: 'Admin credentials needed' } } },
});

/** /api/cameras or /api/streams: relay.conf's blocks of that kind, listed and edited (admin plane). */
function configApiPaths(path: string, kind: string): Record<string, unknown> {
  const admin = [{ basic: [] }, { bearer: [] }];
  const directives = { type: 'object', additionalProperties: { oneOf: [string, { type: 'array', items: string }, { type: 'null' }] }, description: 'directive names to values (null removes one)' };
  const edited = { 200: json(`The ${kind} block as relay.conf now has it, applied by a reload`, { type: 'object' }), 400: ERROR_CODE, 401: { description: 'Admin credentials needed' }, 404: ERROR_CODE, 409: ERROR_CODE };
  const name = { name: 'name', in: 'path', required: true, schema: string };
  return {
    [`/api/${path}`]: {
      get: { summary: `The ${kind} blocks of relay.conf`, tags: ['config'], security: admin, responses: { 200: json(`${kind} blocks`, { type: 'array', items: { type: 'object' } }) } },
      post: { summary: `Adds a ${kind} block to relay.conf and reloads`, tags: ['config'], security: admin, requestBody: body(object({ name: string, directives }, ['name', 'directives'])), responses: edited },
    },
    [`/api/${path}/{name}`]: {
      put: { summary: `Changes directives of a ${kind} block in place and reloads`, tags: ['config'], security: admin, parameters: [name], requestBody: body(object({ directives }, ['directives'])), responses: edited },
      delete: { summary: `Removes a ${kind} block and reloads`, tags: ['config'], security: admin, parameters: [name], responses: edited },
    },
  };
}

/** The OpenAPI 3.1 description of the relay's JSON APIs, served at /api/openapi.json and checked against the router by a test. */
export const OPENAPI_DOCUMENT = {
  openapi: '3.1.0',
  info: {
    title: 'camera-relay JSON APIs',
    version: '1.0.0',
    description: 'Status, push sources, started file streams, recordings and camera control. The admin plane (/stat.json, /api/*, /record/*) needs AdminUser or AdminToken credentials when they are configured; /api/source checks its publish keys, /api/viewer-check the viewer token it is asked about, and viewers\' control routes the camera\'s ControlAccess.',
  },
  security: [{}, { basic: [] }, { bearer: [] }],
  paths: {
    '/api/openapi.json': { get: { summary: 'This document', tags: ['meta'], responses: { 200: json('OpenAPI 3.1', { type: 'object' }) } } },
    '/stat.json': { get: { summary: 'Status of the server, cameras, streams, encoders and recordings (what /stat.html shows)', tags: ['status'], responses: { 200: json('The status snapshot', ref('Status')) } } },
    '/player/{stream}/state': {
      get: {
        summary: 'What a stream\'s players show: a state and a sentence, never errors or addresses',
        tags: ['status'],
        parameters: [{ name: 'stream', in: 'path', required: true, schema: string }, { name: 'token', in: 'query', schema: string, description: 'the stream\'s viewer token, where it needs one' }],
        responses: { 200: json('The stream\'s state', object({ state: string, text: string }, ['state', 'text'])), 404: { description: 'No such stream' } },
      },
    },
    '/api/viewer-check': {
      get: {
        summary: 'For a cache in front (nginx auth_request): may this client have the request named in X-Original-URI?',
        tags: ['security'],
        parameters: [{ name: 'X-Original-URI', in: 'header', required: true, schema: string, description: 'the path and query the cache is about to answer' }],
        responses: { 204: { description: 'Allowed; cacheable up to 10 s, never past the token\'s expiry' }, 401: { description: 'Admin plane: credentials needed' }, 403: { description: 'Refused (also for an expired token)' } },
      },
    },
    '/api/source': {
      post: {
        summary: 'The push source protocol: new_utilization_id, start_stream, validate_stream, get_data, stop_stream, list_streams (operators)',
        tags: ['push'],
        requestBody: body(object({ action: { enum: ['new_utilization_id', 'start_stream', 'validate_stream', 'get_data', 'stop_stream', 'list_streams'] }, key: string, utilization_id: string, width: integer, height: integer, codec: { enum: ['vp8', 'h264', 'jpeg'] }, audio: { enum: ['opus', 'pcma', 'pcmu', 'aac'] }, audio_config: string, data: string, camera: string }, ['action'])),
        responses: {
          200: json('The action\'s answer', { type: 'object' }),
          default: json('A refusal; the HTTP status is the first three digits of error_code', object({ error_code: integer, error_txt: string }, ['error_code', 'error_txt'])),
        },
      },
    },
    '/api/vod/startup': { post: { summary: 'Start a vod-live:// file as a live stream at /NAME', tags: ['vod'], requestBody: body(object({ uri: string, localStreamName: string, loop: boolean, access: { enum: ['public', 'token'] } }, ['uri', 'localStreamName'])), responses: { 200: json('The started stream', vodRecord), 409: ERROR_CODE, 503: ERROR_CODE, ...vodErrors } } },
    '/api/vod/find': { post: { summary: 'One started stream', tags: ['vod'], requestBody: vodName, responses: { 200: json('A list of one record', { type: 'array', items: vodRecord }), ...vodErrors } } },
    '/api/vod/find_all': { post: { summary: 'Every started stream', tags: ['vod'], responses: { 200: json('Records', { type: 'array', items: vodRecord }), ...vodErrors } } },
    '/api/vod/terminate': { post: { summary: 'Stop a started stream; its viewers\' responses end', tags: ['vod'], requestBody: vodName, responses: { 200: json('The stopped stream', vodRecord), ...vodErrors } } },
    '/record/list': {
      get: {
        summary: 'Recorded spans of a camera (gaps split them)',
        tags: ['recording'],
        parameters: [{ name: 'camera', in: 'query', required: true, schema: string }, { name: 'start', in: 'query', schema: { type: 'string', format: 'date-time' } }, { name: 'end', in: 'query', schema: { type: 'string', format: 'date-time' } }],
        responses: { 200: json('Spans', { type: 'array', items: object({ start: { type: 'string', format: 'date-time' }, duration: number }, ['start', 'duration']) }), 400: ERROR_CODE, 404: ERROR_CODE },
      },
    },
    '/record/get': { get: { summary: 'One MP4 of a range, cut at keyframes and stitched across files', tags: ['recording'], parameters: recordingQuery(), responses: { 200: { description: 'The MP4, as a download', content: { 'video/mp4': {} } }, ...recordingErrors } } },
    '/record/frames': { get: { summary: 'A ZIP of JPEGs of a range, named by UTC time', tags: ['recording'], parameters: recordingQuery([{ name: 'fps', in: 'query', schema: number, description: 'default 1' }]), responses: { 200: { description: 'The ZIP', content: { 'application/zip': {} } }, ...recordingErrors } } },
    ...configApiPaths('cameras', 'Camera'),
    '/api/cameras/test': {
      post: {
        summary: 'Connects once to a source (at most 5 s) and answers its codec, size, frame rate and a JPEG snapshot; one test at a time',
        tags: ['config'],
        security: [{ basic: [] }, { bearer: [] }],
        requestBody: body(object({ source: string, username: string, password: string }, ['source'])),
        responses: {
          200: json('What the source sent', object({ ok: boolean, codec: string, width: { type: ['integer', 'null'] }, height: { type: ['integer', 'null'] }, frameRate: { type: ['number', 'null'] }, frames: integer, snapshot: { type: ['string', 'null'], description: 'data:image/jpeg;base64,...' } }, ['ok', 'codec', 'frames'])),
          400: ERROR_CODE,
          401: { description: 'Admin credentials needed' },
          502: json('The source failed', object({ error: string }, ['error'])),
          503: ERROR_CODE,
          504: json('No picture within the time allowed', object({ error: string }, ['error'])),
        },
      },
    },
    ...configApiPaths('streams', 'Stream'),
    '/api/control/{camera}': { get: { summary: 'The control queue, presets and ranges', tags: ['control'], parameters: [camera], responses: { 200: json('Queue state', ref('ControlState')), 404: { description: 'No camera with control' } } } },
    '/api/control/{camera}/request': { post: { summary: 'A place in the control queue; its id is the viewer\'s key', tags: ['control'], parameters: [camera], responses: { 200: json('The place', object({ id: string, label: string, position: integer }, ['id'])), 429: CONTROL_ERROR, 503: CONTROL_ERROR } } },
    '/api/control/{camera}/events': {
      get: {
        summary: 'Server-Sent Events of a place: `state` (position, holder, waiting, timeLeftMs, idleLeftMs, locked, ptz) and `ended` (reason)',
        tags: ['control'],
        parameters: [camera, { name: 'id', in: 'query', required: true, schema: string }],
        responses: { 200: { description: 'An event stream; closing it leaves the queue', content: { 'text/event-stream': {} } }, 404: CONTROL_ERROR, 429: { ...CONTROL_ERROR, description: 'MaxUnauthenticatedPerIP event streams already open from this address' } },
      },
    },
    '/api/control/{camera}/move': viewerCommand('Move at speeds from -1 to 1 (one step of up to 5 degrees)', { pan: number, tilt: number, zoom: number }),
    '/api/control/{camera}/goto': viewerCommand('Go to a position in degrees, within the Control*Range directives', { pan: number, tilt: number, zoom: number }),
    '/api/control/{camera}/preset': viewerCommand('Go to a ControlPreset by name', { name: string }),
    '/api/control/{camera}/stop': viewerCommand('Stop moving', {}),
    '/api/control/{camera}/leave': viewerCommand('Leave the queue (or give control back)', {}),
    '/api/control/{camera}/operator/take': operator('The operator takes control at once; answers an id for the viewer commands', object({ id: string, label: string })),
    '/api/control/{camera}/operator/release': operator('The operator gives control back', object({ released: boolean })),
    '/api/control/{camera}/operator/lock': operator('Keep viewers from control', object({ locked: boolean })),
    '/api/control/{camera}/operator/unlock': operator('Let viewers ask for control again', object({ locked: boolean })),
  },
  components: {
    securitySchemes: { basic: { type: 'http', scheme: 'basic', description: 'AdminUser' }, bearer: { type: 'http', scheme: 'bearer', description: 'AdminToken' } },
    schemas: {
      CodedError: object({ code: string, message: string }, ['code', 'message']),
      ControlError: object({ code: string, error: string }, ['code', 'error']),
      Ptz: object({ pan: number, tilt: number, zoom: number }),
      ControlState: object({ ranges: object({ pan: { type: 'array', items: number }, tilt: { type: 'array', items: number }, zoom: { type: 'array', items: number } }), holdSeconds: number, idleSeconds: number }),
      VodStream: object({ localStreamName: string, uri: string, loop: boolean, access: string, state: string, viewers: integer, startedAt: string, position: number, hasVideo: boolean, hasAudio: boolean, lastError: {}, urls: { type: 'object' } }),
      Status: object({ server: { type: 'object' }, cameras: { type: 'array', items: { type: 'object' } }, streams: { type: 'array', items: { type: 'object' } }, encoders: { type: 'array', items: { type: 'object' } }, recording: {} }, ['server', 'cameras', 'streams']),
    },
  },
} as const;
