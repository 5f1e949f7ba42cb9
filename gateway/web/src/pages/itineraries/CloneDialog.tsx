// Clone an itinerary (POST /api/itineraries/:id/clone) under a new title. The copy
// belongs to the signed-in agent and is not linked to the original's booking.
import { useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { itinerariesApi } from '../../api/endpoints';
import type { Itinerary } from '../../api/types';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { errorMessage } from '../../components/Feedback';

export function CloneDialog({ itinerary, onCancel, onDone }: { itinerary: Itinerary; onCancel: () => void; onDone: (copy: Itinerary) => void }) {
  const qc = useQueryClient();
  const [title, setTitle] = useState(`Copy of ${itinerary.title}`.slice(0, 200));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const id = useId();
  const valid = title.trim().length > 0 && title.trim().length <= 200;
  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      const copy = await itinerariesApi.clone(itinerary._id, title.trim());
      qc.setQueryData(['itineraries', 'one', copy._id], copy);
      void qc.invalidateQueries({ queryKey: ['itineraries', 'list'] });
      onDone(copy);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <ConfirmDialog open title="Clone this itinerary" confirmLabel="Clone" busy={busy} confirmDisabled={!valid} error={error} onCancel={onCancel} onConfirm={() => void submit()}>
      <p>
        A copy of <strong>{itinerary.title}</strong> with all {itinerary.days?.length ?? 0} days becomes a new itinerary of yours, without the booking link.
      </p>
      <div className="field">
        <label htmlFor={id}>Title of the copy</label>
        <input id={id} type="text" maxLength={200} value={title} onChange={(e) => setTitle(e.target.value)} />
      </div>
    </ConfirmDialog>
  );
}
