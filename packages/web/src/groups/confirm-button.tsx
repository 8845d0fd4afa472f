import { useState } from "react";

/** A destructive button that asks once more, inline (keyboard-friendly, no modal). */
export function ConfirmButton(props: {
  label: string;
  text: string;
  confirm: string;
  onConfirm: () => unknown;
}) {
  const [asking, setAsking] = useState(false);
  if (!asking)
    return (
      <button type="button" className="ghost danger" aria-label={props.label} onClick={() => setAsking(true)}>
        {props.text}
      </button>
    );
  return (
    <span className="confirm">
      <span>{props.confirm}</span>
      <button
        type="button"
        className="danger"
        // the button pressed is gone: focus moves to the answer
        ref={(el) => el?.focus()}
        onClick={() => {
          setAsking(false);
          void props.onConfirm();
        }}
      >
        Yes, {props.text.toLowerCase()}
      </button>
      <button type="button" className="ghost" onClick={() => setAsking(false)}>
        Keep
      </button>
    </span>
  );
}
