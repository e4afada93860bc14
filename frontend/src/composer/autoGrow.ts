import { useLayoutEffect, useRef, type RefObject } from "react";

/** A ref for a textarea that grows with its text, up to the style's max-height. */
export function useAutoGrow(text: string): RefObject<HTMLTextAreaElement | null> {
  const box = useRef<HTMLTextAreaElement>(null);
  useLayoutEffect(() => {
    const element = box.current;
    if (!element) return;
    element.style.height = "auto";
    element.style.height = `${element.scrollHeight + 2}px`;
  }, [text]);
  return box;
}
