import { useId, useState, type SyntheticEvent, type KeyboardEvent } from "react";

const encoder = new TextEncoder();

export function Composer({
  room,
  maxBytes,
  onSend,
  onTyping,
}: {
  room: string;
  maxBytes: number;
  onSend: (body: string) => void;
  onTyping: () => void;
}) {
  const [text, setText] = useState("");
  const id = useId();
  const hintId = useId();
  // The frame around the body costs a few hundred bytes at most.
  const tooLong = encoder.encode(text).length > maxBytes - 512;

  function submit(event?: SyntheticEvent) {
    event?.preventDefault();
    const body = text.trim();
    if (!body || tooLong) return;
    onSend(body);
    setText("");
  }

  function onKeyDown(event: KeyboardEvent<HTMLTextAreaElement>) {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) submit(event);
  }

  return (
    <form className="composer" onSubmit={submit}>
      <label htmlFor={id} className="visually-hidden">
        Message #{room}
      </label>
      <textarea
        id={id}
        rows={1}
        value={text}
        placeholder={`Message #${room}`}
        aria-describedby={hintId}
        aria-invalid={tooLong || undefined}
        onKeyDown={onKeyDown}
        onChange={(e) => {
          setText(e.target.value);
          if (e.target.value) onTyping();
        }}
      />
      <button type="submit" disabled={!text.trim() || tooLong}>
        Send
      </button>
      <p id={hintId} className={tooLong ? "error hint" : "visually-hidden"}>
        {tooLong ? "This message is too long to send." : "Enter sends, Shift+Enter starts a new line."}
      </p>
    </form>
  );
}
