/** Auth mode none: a name is all it takes to be someone, so nothing here is private. Said on
 * the sign-in page and in the top bar, wherever someone might take a name for a person. On a
 * phone's top bar only "Open mode" shows (the rest is still read out): the bar has one row. */
export function OpenModeNotice() {
  return (
    <p className="open-mode" role="note" data-testid="open-mode">
      Open mode<span className="open-mode-rest">: anyone can use any name</span>
      <span className="visually-hidden">
        . Nothing here is private: there are no private rooms or direct messages.
      </span>
    </p>
  );
}
