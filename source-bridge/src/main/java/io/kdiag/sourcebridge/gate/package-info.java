/**
 * The single gate into {@code kdiag.abnormals}, which every source submits to: admission (duplicates, repeats, storm
 * limits), the dedup state, and the pipelined forwarding that loses nothing and forwards at least once.
 */
package io.kdiag.sourcebridge.gate;
