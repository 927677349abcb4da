/**
 * The single gate into {@code kdiag.abnormals}, which every source submits to: admission (duplicates, repeats, storm
 * limits), the dedup state, and the transaction that forwards exactly once.
 */
package io.kdiag.sourcebridge.gate;
