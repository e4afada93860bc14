/** Auth mode none: a name is all it takes to be someone, so nothing here is private. Said on
 * the sign-in page and in the top bar, wherever someone might take a name for a person. */
export function OpenModeNotice() {
  return (
    <p className="open-mode" role="note" data-testid="open-mode">
      Open mode: anyone can use any name
      <span className="visually-hidden">
        . Nothing here is private: there are no private rooms or direct messages.
      </span>
    </p>
  );
}
