/** Something that ends once: close() is safe to call twice, and every onClose callback runs once (at once if late). */
export class Closable {
  closed = false;
  private readonly closeCallbacks: Array<() => void> = [];

  onClose(callback: () => void): void {
    if (this.closed) callback();
    else this.closeCallbacks.push(callback);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const callback of this.closeCallbacks.splice(0)) callback();
  }
}
