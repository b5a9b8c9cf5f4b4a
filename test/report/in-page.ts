// The DOM shapes the tests' in-page functions (run in Chromium by page.$eval) use. The project compiles
// without the DOM lib, so src cannot lean on browser globals by accident; these few are declared here
// instead of pulling the whole lib into every file's scope.

/** A DOM element, as far as the tests read it. */
export interface PageElement {
  readonly tagName: string;
  readonly namespaceURI: string | null;
  readonly textContent: string | null;
  readonly innerText: string;
  readonly children: ArrayLike<PageElement>;
  readonly childNodes: ArrayLike<{ readonly nodeType: number; readonly textContent: string | null }>;
  readonly attributes: ArrayLike<{ readonly name: string; readonly value: string }>;
  readonly classList: { contains(name: string): boolean };
  readonly parentElement: PageElement | null;
  readonly firstElementChild: PageElement | null;
  readonly ownerDocument: PageDocument;
  readonly scrollWidth: number;
  readonly clientWidth: number;
  getAttribute(name: string): string | null;
  closest(selector: string): PageElement | null;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement>;
}

/** The document of a {@link PageElement}. */
export interface PageDocument {
  readonly title: string;
  readonly documentElement: PageElement;
  readonly defaultView: PageWindow;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement>;
}

/** The window: computed styles, and whatever a hostile script might have set on it. */
export interface PageWindow {
  getComputedStyle(el: PageElement): Readonly<Record<string, string>>;
  readonly pwned?: number;
}

/**
 * Runs in the page (pass to `page.$eval('html', …)`): every element with its own text whose contrast
 * against the background it sits on is under 4.5:1 (WCAG AA for normal text). SVG text is checked
 * against the box it sits in. Self-contained: Playwright ships only this function's source.
 */
export function lowContrastTexts(html: PageElement): string[] {
  const win = html.ownerDocument.defaultView;
  const parse = (c: string | undefined): number[] => (c?.match(/[\d.]+/g) ?? []).map(Number);
  const lum = ([r, g, b]: number[]) => {
    const ch = (v: number) => {
      const s = v / 255;
      return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * ch(r!) + 0.7152 * ch(g!) + 0.0722 * ch(b!);
  };
  const ratio = (a: number[], b: number[]) => {
    const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
    return (hi! + 0.05) / (lo! + 0.05);
  };
  const isSvg = (el: PageElement) => el.namespaceURI === 'http://www.w3.org/2000/svg';
  const background = (el: PageElement): number[] => {
    if (isSvg(el)) {
      const box = el.closest('g.node')?.querySelector('.box');
      if (box) return parse(win.getComputedStyle(box).fill);
    }
    for (let e: PageElement | null = el; e; e = e.parentElement) {
      const c = parse(win.getComputedStyle(e).backgroundColor);
      if (c.length === 3 || (c.length === 4 && c[3]! > 0)) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const bad: string[] = [];
  for (const el of Array.from(html.querySelectorAll('body *'))) {
    const own = Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent?.trim());
    if (!own || el.closest('title, desc, style')) continue;
    const style = win.getComputedStyle(el);
    const fg = parse(isSvg(el) ? style.fill : style.color).slice(0, 3);
    const r = ratio(fg, background(el));
    if (r < 4.5) {
      bad.push(
        `${el.tagName}.${el.getAttribute('class')}: ${el.textContent?.slice(0, 30)} (${r.toFixed(2)})`,
      );
    }
  }
  return bad;
}
