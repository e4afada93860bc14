import { formatSize } from "./format";

/** Files picked, pasted or dropped into the message box, to go with the next message. No
 * preview of their pixels: the page's policy shows images from the server only. */
export function StagedFiles({
  files,
  maxBytes,
  onRemove,
}: {
  files: File[];
  maxBytes: number;
  onRemove: (index: number) => void;
}) {
  if (files.length === 0) return null;
  return (
    <ul className="staged-files" aria-label="Files to send">
      {files.map((file, index) => (
        // Files have no identity of their own; the list changes only by these buttons.
        <li key={`${index}-${file.name}`} className={file.size > maxBytes ? "staged-file too-large" : "staged-file"}>
          <span className="file-name" dir="auto">
            {file.name || "file"}
          </span>
          <span className="file-size">{formatSize(file.size)}</span>
          {file.size > maxBytes && <span className="error">too large (at most {formatSize(maxBytes)})</span>}
          <button
            type="button"
            className="link small"
            aria-label={`Remove ${file.name || "file"}`}
            onClick={() => {
              onRemove(index);
            }}
          >
            Remove
          </button>
        </li>
      ))}
    </ul>
  );
}
