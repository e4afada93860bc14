import type { Attachment } from "../composer/Outbox";
import type { UploadProgress } from "./Uploads";
import { formatSize } from "./format";

/** The files of a message still waiting: each with how far its upload is, and Cancel. */
export function PendingFiles({
  attachments,
  progress,
  onCancel,
}: {
  attachments: Attachment[];
  progress: UploadProgress;
  onCancel: (key: string) => void;
}) {
  return (
    <ul className="pending-files" aria-label="Files">
      {attachments.map((attachment) => {
        const done = attachment.file !== null;
        const share = progress[attachment.key];
        const state = done ? "uploaded" : share === undefined ? "waiting to upload" : `uploading, ${Math.round(share * 100)}%`;
        return (
          <li key={attachment.key} className="pending-file" data-testid="pending-file">
            <span className="file-name" dir="auto">
              {attachment.name}
            </span>
            <span className="file-size">{formatSize(attachment.size)}</span>
            <progress max={1} value={done ? 1 : (share ?? 0)} aria-label={`${attachment.name}: ${state}`} />
            <span className="state">{state}</span>
            {!done && (
              <button
                type="button"
                className="link small"
                onClick={() => {
                  onCancel(attachment.key);
                }}
              >
                Cancel
              </button>
            )}
          </li>
        );
      })}
    </ul>
  );
}
