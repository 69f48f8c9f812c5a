// Boxes over an image (OCR lines, a field's evidence), in the image's own pixel coordinates,
// kept exactly over the image's rendered box as it is zoomed, scrolled or resized.
import type { RefObject } from "preact";
import { useEffect, useState } from "preact/hooks";
import { polygonPoints } from "../format";

export interface Box {
  polygon: [number, number][] | number[][];
  title: string;
}

interface Placement {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** The image's box inside its (positioned, scrolling) frame, followed as it changes. */
function usePlacement(img: RefObject<HTMLImageElement | null>): Placement | null {
  const [placement, setPlacement] = useState<Placement | null>(null);
  useEffect(() => {
    const el = img.current;
    if (!el) return;
    const align = () => setPlacement({ left: el.offsetLeft, top: el.offsetTop, width: el.offsetWidth, height: el.offsetHeight });
    const observer = new ResizeObserver(align);
    observer.observe(el);
    el.addEventListener("load", align);
    align();
    return () => {
      observer.disconnect();
      el.removeEventListener("load", align);
    };
  }, [img]);
  return placement;
}

export interface OverlayProps {
  img: RefObject<HTMLImageElement | null>;
  /** The coordinate space of the boxes (the page or photo in pixels). */
  width: number;
  height: number;
  boxes: Box[];
  /** "ocr-overlay" (lines: hover shows text) or "ocr-overlay evidence-overlay". */
  class: string;
  boxClass: string;
  active?: number | null;
  hidden?: boolean;
  onHover?: (index: number | null) => void;
}

export function Overlay(props: OverlayProps) {
  const placement = usePlacement(props.img);
  const style = placement
    ? { left: `${placement.left}px`, top: `${placement.top}px`, width: `${placement.width}px`, height: `${placement.height}px` }
    : undefined;
  return (
    <svg class={`${props.class}${props.hidden ? " hidden" : ""}`} preserveAspectRatio="none" style={style}
      viewBox={`0 0 ${props.width} ${props.height}`}
      onMouseOver={(e) => {
        const index = (e.target as Element).getAttribute("data-line");
        props.onHover?.(index === null ? null : Number(index));
      }}
      onMouseLeave={() => props.onHover?.(null)}>
      {props.boxes.map((box, index) => (
        <polygon key={index} points={polygonPoints(box.polygon)} data-line={props.boxClass === "ocr-box" ? index : undefined}
          class={`${props.boxClass}${index === props.active ? " active" : ""}`}>
          <title>{box.title}</title>
        </polygon>
      ))}
    </svg>
  );
}
