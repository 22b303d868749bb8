import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type { XMLParser } from 'fast-xml-parser';
import { boundedBody } from '../../lib/bounded-body.ts';

/**
 * ONVIF's SOAP 1.2 transport: an envelope with a WS-Security UsernameToken (password digest), POSTed to a service
 * address, the reply parsed without entity expansion (a DOCTYPE is refused outright, so no XML bomb can expand).
 */

export type OnvifErrorCode = 'FAULT' | 'AUTH' | 'TIMEOUT' | 'UNREACHABLE' | 'PROTOCOL';

/** A failed ONVIF call; the message is safe to show (no credentials, at most a short cleaned fault text). */
export class OnvifError extends Error {
  override readonly name = 'OnvifError';
  constructor(
    readonly code: OnvifErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface OnvifCredentials {
  readonly username: string | undefined;
  readonly password: string | undefined;
}

/** An XML element as the parser gives it: attributes under `@_name`, text under `#text`, children by local name. */
export type XmlNode = { readonly [name: string]: XmlValue };
export type XmlValue = string | XmlNode | readonly XmlValue[] | undefined;

/** Replies larger than this are not an ONVIF answer the relay needs. */
export const MAX_REPLY_BYTES = 256 * 1024;
const MAX_FAULT_TEXT = 120;

const NAMESPACES = [
  'xmlns:s="http://www.w3.org/2003/05/soap-envelope"',
  'xmlns:tds="http://www.onvif.org/ver10/device/wsdl"',
  'xmlns:trt="http://www.onvif.org/ver10/media/wsdl"',
  'xmlns:tptz="http://www.onvif.org/ver20/ptz/wsdl"',
  'xmlns:tt="http://www.onvif.org/ver10/schema"',
].join(' ');

const WSSE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
const WSU = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd';
const DIGEST_TYPE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest';
const NONCE_TYPE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary';

/** Escapes text for an XML element or attribute. */
export function xmlText(text: string): string {
  return text.replace(/[<>&"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** WS-Security's PasswordDigest: Base64(SHA-1(nonce + created + password)). */
export function passwordDigest(nonce: Buffer, created: string, password: string): string {
  return createHash('sha1').update(Buffer.concat([nonce, Buffer.from(created), Buffer.from(password)])).digest('base64');
}

function securityHeader(credentials: OnvifCredentials, now: Date, nonce: Buffer): string {
  if (credentials.username === undefined) return '';
  const created = now.toISOString().replace(/\.\d+Z$/, 'Z');
  return `<s:Header><wsse:Security xmlns:wsse="${WSSE}" xmlns:wsu="${WSU}" s:mustUnderstand="1"><wsse:UsernameToken>`
    + `<wsse:Username>${xmlText(credentials.username)}</wsse:Username>`
    + `<wsse:Password Type="${DIGEST_TYPE}">${passwordDigest(nonce, created, credentials.password ?? '')}</wsse:Password>`
    + `<wsse:Nonce EncodingType="${NONCE_TYPE}">${nonce.toString('base64')}</wsse:Nonce>`
    + `<wsu:Created>${created}</wsu:Created></wsse:UsernameToken></wsse:Security></s:Header>`;
}

/** A SOAP 1.2 envelope around `body` (elements with the tds/trt/tptz/tt prefixes declared here). */
export function envelope(body: string, credentials: OnvifCredentials, now = new Date(), nonce = randomBytes(16)): string {
  return `<?xml version="1.0" encoding="UTF-8"?><s:Envelope ${NAMESPACES}>${securityHeader(credentials, now, nonce)}<s:Body>${body}</s:Body></s:Envelope>`;
}

const require = createRequire(import.meta.url);
let xmlTools: { parser: XMLParser; validate: (text: string) => unknown } | undefined;

/** fast-xml-parser is loaded with the first ONVIF reply: a relay without ONVIF cameras never pays for it. */
function xmlReader(): { parser: XMLParser; validate: (text: string) => unknown } {
  if (xmlTools) return xmlTools;
  const { XMLParser: Parser, XMLValidator } = require('fast-xml-parser') as typeof import('fast-xml-parser');
  const parser = new Parser({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    removeNSPrefix: true,
    processEntities: false,
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: true,
  });
  xmlTools = { parser, validate: (text) => XMLValidator.validate(text) };
  return xmlTools;
}

function clean(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, MAX_FAULT_TEXT);
}

/** The text of a node whether the parser made it a string or an element with attributes. */
export function textOf(value: XmlValue): string | undefined {
  if (typeof value === 'string') return value;
  if (value && !Array.isArray(value) && typeof value === 'object') return textOf((value as XmlNode)['#text']);
  return undefined;
}

/** A child element, or the first of several. */
export function child(node: XmlValue, name: string): XmlNode | undefined {
  if (!node || typeof node !== 'object' || Array.isArray(node)) return undefined;
  const value = (node as XmlNode)[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first && typeof first === 'object' && !Array.isArray(first) ? (first as XmlNode) : typeof first === 'string' ? { '#text': first } : undefined;
}

/** Every child element of that name. */
export function children(node: XmlValue, name: string): XmlNode[] {
  if (!node || typeof node !== 'object' || Array.isArray(node)) return [];
  const value = (node as XmlNode)[name];
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return list.map((item) => (typeof item === 'string' ? { '#text': item } : (item as XmlNode)));
}

/** Follows a path of child names. */
export function path(node: XmlValue, ...names: string[]): XmlNode | undefined {
  let current: XmlNode | undefined = node as XmlNode | undefined;
  for (const name of names) current = child(current, name);
  return current;
}

/** The Body of a SOAP reply; a Fault becomes an OnvifError('FAULT'), anything that is not SOAP a 'PROTOCOL' one. */
export function parseReply(xml: string): XmlNode {
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw new OnvifError('PROTOCOL', 'the reply declares a DOCTYPE or entities, which ONVIF never needs');
  const { parser, validate } = xmlReader();
  if (validate(xml) !== true) throw new OnvifError('PROTOCOL', 'the reply is not well-formed XML');
  const body = path(parser.parse(xml) as XmlNode, 'Envelope', 'Body');
  if (!body) throw new OnvifError('PROTOCOL', 'the reply is not a SOAP envelope');
  const fault = child(body, 'Fault');
  if (fault) {
    const reason = textOf(path(fault, 'Reason', 'Text')) ?? textOf(child(fault, 'faultstring')) ?? 'no reason given';
    const subcode = textOf(path(fault, 'Code', 'Subcode', 'Value')) ?? '';
    const code = /NotAuthorized|FailedAuthentication/i.test(subcode + reason) ? 'AUTH' : 'FAULT';
    throw new OnvifError(code, `SOAP fault: ${clean(reason)}`);
  }
  return body;
}


/** POSTs one SOAP request to `url` and returns the reply's Body. */
export async function soapCall(url: string, body: string, credentials: OnvifCredentials, timeoutMs: number): Promise<XmlNode> {
  let response: Response;
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/soap+xml; charset=utf-8' },
      body: envelope(body, credentials),
      redirect: 'error',
      signal,
    });
  } catch (error) {
    if (signal.aborted) throw new OnvifError('TIMEOUT', `no answer within ${timeoutMs} ms`);
    throw new OnvifError('UNREACHABLE', `cannot reach the device (${(error as Error).message})`);
  }
  let text: string;
  try {
    text = (await boundedBody(response, MAX_REPLY_BYTES, () => new OnvifError('PROTOCOL', `the reply is larger than ${MAX_REPLY_BYTES} bytes`))).toString('utf8');
  } catch (error) {
    if (error instanceof OnvifError) throw error;
    throw new OnvifError(signal.aborted ? 'TIMEOUT' : 'UNREACHABLE', signal.aborted ? `no answer within ${timeoutMs} ms` : 'the device closed the connection');
  }
  if (response.status === 401 || response.status === 403) throw new OnvifError('AUTH', `HTTP ${response.status}: credentials refused`);
  if (response.status >= 400 && !text.includes('Envelope')) throw new OnvifError('FAULT', `HTTP ${response.status}`);
  return parseReply(text);
}
