// The photo (or page) viewer with zoom, and the strip of page thumbnails, windowed.
import type { ComponentChildren, RefObject } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { thumbUrl } from "../api";
import { visibleRange } from "../virtual-list";

const ZOOM_STEPS = [0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 6, 8];

/** `fit` scales the photo into the frame; otherwise it is `zoom` × its natural size. */
export interface Zoom {
  fit: boolean;
  zoom: number;
}

/** The next zoom step from the scale shown now, or null at either end. */
export function nextZoom(scale: number, direction: 1 | -1): number | null {
  const next = direction > 0 ? ZOOM_STEPS.find((z) => z > scale + 1e-3) : [...ZOOM_STEPS].reverse().find((z) => z < scale - 1e-3);
  return next ?? null;
}

export function useZoom(img: RefObject<HTMLImageElement | null>) {
  const [zoom, setZoom] = useState<Zoom>({ fit: true, zoom: 1 });
  const step = (direction: 1 | -1) => {
    const el = img.current;
    if (!el) return;
    const scale = zoom.fit ? el.clientWidth / Math.max(1, el.naturalWidth) : zoom.zoom;
    const next = nextZoom(scale, direction);
    if (next !== null) setZoom({ fit: false, zoom: next });
  };
  return { zoom, setZoom, step };
}

export interface ViewerProps {
  src: string;
  alt: string;
  img: RefObject<HTMLImageElement | null>;
  zoom: ReturnType<typeof useZoom>;
  /** More of the tool bar (the page navigation). */
  tools?: ComponentChildren;
  /** Drawn over the image (the overlays). */
  children?: ComponentChildren;
}

export function PhotoViewer({ src, alt, img, zoom: { zoom, setZoom, step }, tools, children }: ViewerProps) {
  const width = !zoom.fit && img.current ? `${Math.round(img.current.naturalWidth * zoom.zoom)}px` : undefined;
  return (
    <div class="viewer">
      <div class="zoom-bar">
        <button title="Zoom out (-)" onClick={() => step(-1)}>−</button>
        <button title="Zoom in (+)" onClick={() => step(1)}>+</button>
        <button title="Fit to frame (0)" onClick={() => setZoom({ fit: true, zoom: 1 })}>Fit</button>
        <button title="Actual pixels (1)" onClick={() => setZoom({ fit: false, zoom: 1 })}>100 %</button>
        <span class="zoom-label muted">{zoom.fit ? "Fit" : `${Math.round(zoom.zoom * 100)} %`}</span>
        {tools}
      </div>
      <div class={`photo-frame${zoom.fit ? " fit" : ""}`}
        onWheel={(event) => {
          if (!event.ctrlKey) return;
          event.preventDefault();
          step(event.deltaY < 0 ? 1 : -1);
        }}>
        <img ref={img} src={src} alt={alt} class="photo" draggable={false} style={{ width }}
          onDblClick={() => setZoom({ fit: !zoom.fit, zoom: 1 })} />
        {children}
      </div>
    </div>
  );
}

const THUMB_ROW = 132;

/** The pages as small images, windowed: only the visible thumbnails exist (a PDF may have 2000). */
export function Thumbs({ sha, pageCount, page, open }: { sha: string; pageCount: number; page: number; open: (page: number) => void }) {
  const nav = useRef<HTMLElement>(null);
  const [view, setView] = useState({ top: 0, height: 600 });
  useEffect(() => {
    const el = nav.current;
    if (!el) return;
    const observer = new ResizeObserver(() => setView({ top: el.scrollTop, height: el.clientHeight || 600 }));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  // the page shown stays in view
  useEffect(() => {
    const el = nav.current;
    if (!el) return;
    const top = (page - 1) * THUMB_ROW;
    if (top < el.scrollTop || top + THUMB_ROW > el.scrollTop + el.clientHeight) {
      el.scrollTop = top - el.clientHeight / 2 + THUMB_ROW / 2;
    }
  }, [page]);
  const range = visibleRange(view.top, view.height, THUMB_ROW, pageCount, 3);
  const buttons = [];
  for (let i = range.start; i < range.end; i++) {
    const n = i + 1;
    buttons.push(
      <button key={n} class={`thumb${n === page ? " selected" : ""}`} data-page={n} title={`Page ${n}`} style={{ top: `${i * THUMB_ROW}px` }}
        onClick={() => open(n)}>
        <img src={thumbUrl(sha, n)} alt={`Page ${n}`} loading="lazy" draggable={false} />
        <span class="thumb-number">{String(n)}</span>
      </button>,
    );
  }
  return (
    <nav class="thumbs" aria-label="Pages" ref={nav}
      onScroll={(e) => { const el = e.currentTarget as HTMLElement; setView({ top: el.scrollTop, height: el.clientHeight || 600 }); }}>
      <div class="thumbs-inner" style={{ height: `${pageCount * THUMB_ROW}px` }}>{buttons}</div>
    </nav>
  );
}
