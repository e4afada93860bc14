import { useEffect, useId, useLayoutEffect, useRef } from "react";

import type { FileRef } from "../socket/protocol";
import { fileUrl, formatSize } from "./format";

/** One image at full size, in a dialog: Esc closes it, the arrow keys (and the buttons) go to
 * the room's previous and next image. The image comes from this server (img-src 'self'). */
export function ImageViewer({
  images,
  index,
  onIndex,
  onClose,
}: {
  images: FileRef[];
  /** Which of them is shown; null: the viewer is closed. */
  index: number | null;
  onIndex: (index: number) => void;
  onClose: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const open = index !== null;
  const image = index === null ? undefined : images[index];

  useLayoutEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (open && !element.open) element.showModal();
    if (!open && element.open) element.close();
  }, [open]);

  useEffect(() => {
    if (index === null) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "ArrowLeft" && index > 0) {
        event.preventDefault();
        onIndex(index - 1);
      } else if (event.key === "ArrowRight" && index < images.length - 1) {
        event.preventDefault();
        onIndex(index + 1);
      }
    };
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("keydown", onKey);
    };
  }, [index, images.length, onIndex]);

  return (
    <dialog ref={dialog} className="viewer" aria-labelledby={titleId} onClose={onClose} data-testid="image-viewer">
      {image && index !== null && (
        <>
          <div className="viewer-bar">
            <h2 id={titleId} dir="auto">
              {image.name}
            </h2>
            <span className="viewer-where">
              {index + 1} of {images.length} · {image.width}×{image.height} · {formatSize(image.size)}
            </span>
            <a href={fileUrl(image.id)} download={image.name}>
              Download
            </a>
            <button type="button" onClick={onClose}>
              Close
            </button>
          </div>
          <div className="viewer-stage">
            <button
              type="button"
              className="viewer-step"
              aria-label="Previous image"
              disabled={index === 0}
              onClick={() => {
                onIndex(index - 1);
              }}
            >
              ‹
            </button>
            <img src={fileUrl(image.id)} alt={image.name} width={image.width ?? undefined} height={image.height ?? undefined} />
            <button
              type="button"
              className="viewer-step"
              aria-label="Next image"
              disabled={index === images.length - 1}
              onClick={() => {
                onIndex(index + 1);
              }}
            >
              ›
            </button>
          </div>
        </>
      )}
    </dialog>
  );
}
