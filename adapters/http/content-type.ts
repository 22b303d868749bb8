/** RFC 2046 caps a boundary at 70 characters; a few more allow for cameras that prefix it with dashes. */
export const MAX_BOUNDARY_LENGTH = 80;

/** A response's media type (lower case, without parameters) and its multipart boundary, if it names one. */
export interface ContentType {
  readonly mediaType: string;
  readonly boundary: string | undefined;
}

/**
 * Parses a Content-Type header. The boundary may be quoted or not and may carry leading dashes
 * (Canon's older models announce `boundary=--LivescopeImage`); a boundary that is empty or too long is ignored
 * so that the parser learns it from the body instead.
 */
export function parseContentType(header: string | undefined): ContentType {
  const text = header ?? '';
  const mediaType = (text.split(';')[0] ?? '').trim().toLowerCase();
  const match = /;\s*boundary\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(text);
  const raw = match ? (match[1] ?? match[2] ?? '') : '';
  const boundary = raw.length > 0 && raw.length <= MAX_BOUNDARY_LENGTH ? raw : undefined;
  return { mediaType, boundary };
}

/** True for the media types of a single JPEG image, including the misspellings some cameras send. */
export function isJpegMediaType(mediaType: string): boolean {
  return mediaType === 'image/jpeg' || mediaType === 'image/jpg' || mediaType === 'image/pjpeg';
}

/** True for multipart/x-mixed-replace and the other multipart types some cameras send for the same thing. */
export function isMultipartMediaType(mediaType: string): boolean {
  return mediaType.startsWith('multipart/');
}

/** True for text and markup bodies: an error page, never a video stream. */
export function isTextMediaType(mediaType: string): boolean {
  return mediaType.startsWith('text/') || mediaType === 'application/json' || mediaType === 'application/xml';
}
