const numbers = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });
const UNITS = ["bytes", "KB", "MB", "GB"];

/** "12 bytes", "1.5 KB", "25 MB" (powers of 1024, as file managers show them). */
export function formatSize(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${numbers.format(unit === 0 ? value : Math.round(value * 10) / 10)} ${UNITS[unit] ?? ""}`;
}

export const PREVIEW_WIDTH = 320;
export const PREVIEW_HEIGHT = 240;

/** The size an image is shown at in the timeline: within the preview box, never larger than
 * itself. Given to the <img> up front, so the list does not jump when it loads. */
export function previewSize(width: number, height: number): { width: number; height: number } {
  const scale = Math.min(1, PREVIEW_WIDTH / width, PREVIEW_HEIGHT / height);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

export function fileUrl(id: string): string {
  return `/api/files/${encodeURIComponent(id)}`;
}

export function thumbnailUrl(id: string): string {
  return `${fileUrl(id)}/thumbnail`;
}

/** A short word for a file's type, for its card. */
export function kindOf(type: string): string {
  if (type === "application/pdf") return "PDF";
  if (type.startsWith("image/")) return "Image";
  if (type.startsWith("text/")) return "Text";
  if (type.startsWith("audio/")) return "Audio";
  if (type.startsWith("video/")) return "Video";
  if (["application/zip", "application/gzip", "application/x-7z-compressed", "application/vnd.rar", "application/x-tar"].includes(type))
    return "Archive";
  return "File";
}
