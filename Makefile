# Convenience targets; each delegates to tasks.py (which needs only Python >= 3.10).
.PHONY: book test execute checksums clean
book:
	python3 tasks.py book
test:
	python3 tasks.py test
execute:
	python3 tasks.py execute
checksums:
	python3 tasks.py checksums
clean:
	rm -rf _build
