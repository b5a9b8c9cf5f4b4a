import { describe, expect, it } from 'vitest';
import { escapeHtml, isHttpUrl, jaegerTraceUrl } from '../../src/report/escape.js';

describe('escapeHtml', () => {
  it('escapes the five HTML-significant characters and control characters', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
    expect(escapeHtml('a\u0000b\u001bc\td\ne')).toBe('a\ufffdb\ufffdc\td\ne');
    expect(escapeHtml(null)).toBe('');
    expect(escapeHtml(4)).toBe('4');
  });
});

describe('jaegerTraceUrl', () => {
  const id = '74d447bdf61c173eb0b32664c13b350f';
  it('links a 32-hex trace id under an http(s) base', () => {
    expect(jaegerTraceUrl('http://localhost:16686/', id)).toBe(`http://localhost:16686/trace/${id}`);
    expect(jaegerTraceUrl('https://jaeger.example/ui', id.toUpperCase())).toBe(
      `https://jaeger.example/ui/trace/${id}`,
    );
  });
  it('refuses other schemes, stored ids that are not trace ids, and no base', () => {
    expect(jaegerTraceUrl('javascript:alert(1)//', id)).toBeUndefined();
    expect(jaegerTraceUrl('http://localhost:16686', '../../admin')).toBeUndefined();
    expect(jaegerTraceUrl(undefined, id)).toBeUndefined();
    expect(jaegerTraceUrl('http://x', null)).toBeUndefined();
    expect(isHttpUrl('file:///etc/passwd')).toBe(false);
  });
});
