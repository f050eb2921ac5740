# vectors/: the committed regression vectors (vectors/regress/*.vec, format vectors/FORMAT.md).
# `make vectors` regenerates them with the golden model; the test vectors/fresh regenerates
# them under $(BUILD) and compares bytes, so the committed set never goes stale.

REGRESS_VECS := $(sort $(wildcard vectors/regress/*.vec))

.PHONY: vectors vectors/fresh
vectors: $(GOLDEN_BIN)
	rm -rf vectors/regress.tmp
	scripts/golden/gen-regress.sh $(GOLDEN_BIN) vectors/regress.tmp
	rm -rf vectors/regress && mv vectors/regress.tmp vectors/regress

vectors/fresh: $(GOLDEN_BIN)
	@scripts/check.sh $(BUILD)/results vectors/fresh -- bash -c '\
	  rm -rf $(BUILD)/regress-fresh && scripts/golden/gen-regress.sh $(GOLDEN_BIN) $(BUILD)/regress-fresh && \
	  diff -r vectors/regress $(BUILD)/regress-fresh && echo "committed vectors are current"'
TEST_TARGETS += vectors/fresh
