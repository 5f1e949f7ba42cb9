import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import { ConfirmDialog } from './ConfirmDialog';

describe('ConfirmDialog', () => {
  it('starts on Cancel, keeps Tab inside and cancels on Escape', async () => {
    const onCancel = vi.fn();
    const onConfirm = vi.fn();
    render(
      <>
        <button type="button">outside</button>
        <ConfirmDialog open title="Are you sure?" onCancel={onCancel} onConfirm={onConfirm}>
          <p>Body</p>
        </ConfirmDialog>
      </>,
    );
    const user = userEvent.setup();
    expect(screen.getByRole('dialog', { name: 'Are you sure?' })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Cancel' })).toHaveFocus();
    await user.tab();
    expect(screen.getByRole('button', { name: 'Confirm' })).toHaveFocus();
    await user.tab();
    expect(screen.getByRole('button', { name: 'Cancel' })).toHaveFocus();
    await user.keyboard('{Enter}');
    expect(onCancel).toHaveBeenCalledTimes(1);
    await user.keyboard('{Escape}');
    expect(onCancel).toHaveBeenCalledTimes(2);
    expect(onConfirm).not.toHaveBeenCalled();
  });
});
