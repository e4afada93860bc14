import type { FileRef } from "../socket/protocol";
import { fileUrl, formatSize, kindOf, previewSize, thumbnailUrl } from "./format";

/** A message's files: images as previews (their thumbnails) that open the viewer, anything
 * else as a card with its name, size and a download link. Only files the server decoded as
 * images (they have a width) are shown as pictures; the server serves everything else as a
 * download, whatever it claims to be. */
export function Attachments({ files, onOpen }: { files: FileRef[]; onOpen: (file: FileRef) => void }) {
  const images = files.filter((f) => f.width !== null && f.height !== null);
  const others = files.filter((f) => f.width === null || f.height === null);
  return (
    <div className="attachments">
      {images.length > 0 && (
        <ul className="previews" aria-label="Images">
          {images.map((file) => {
            const size = previewSize(file.width ?? 1, file.height ?? 1);
            return (
              <li key={file.id}>
                <button
                  type="button"
                  className="preview"
                  aria-label={`View ${file.name}`}
                  onClick={() => {
                    onOpen(file);
                  }}
                >
                  <img src={thumbnailUrl(file.id)} alt={file.name} width={size.width} height={size.height} loading="lazy" />
                </button>
              </li>
            );
          })}
        </ul>
      )}
      {others.length > 0 && (
        <ul className="file-cards" aria-label="Files">
          {others.map((file) => (
            <li key={file.id} className="file-card">
              <span className="file-kind" aria-hidden="true">
                {kindOf(file.type)}
              </span>
              <span className="file-name" dir="auto" title={file.name}>
                {file.name}
              </span>
              <span className="file-size">{formatSize(file.size)}</span>
              <a className="file-download" href={fileUrl(file.id)} download={file.name} aria-label={`Download ${file.name}`}>
                Download
              </a>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
